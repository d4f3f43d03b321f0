import { AuditEvent } from '../modules/audit/audit-event.entity.js';
import { Bank } from '../modules/auth/bank.entity.js';
import { StaffUser } from '../modules/auth/staff-user.entity.js';

/** Entities are listed explicitly, like migrations, so source and dist behave alike. */
export const ENTITIES = [StaffUser, Bank, AuditEvent];
