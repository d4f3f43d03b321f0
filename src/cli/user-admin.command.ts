import { Command, CommandRunner, Option } from 'nest-commander';
import { SYSTEM_ACTOR } from '../modules/audit/audit.service.js';
import { AuthService } from '../modules/auth/auth.service.js';
import { STAFF_ROLES, StaffRole } from '../modules/auth/staff-user.entity.js';
import { UsersService } from '../modules/auth/users.service.js';
import { CliError, printJson } from './cli-error.js';
import { readPassword } from './password-input.js';

// Changes from the command line are audited as the CLI, like user:create.
const CLI_ACTOR = { ...SYSTEM_ACTOR, id: 'cli' };

abstract class ByEmail extends CommandRunner {
  @Option({ flags: '--email <email>', description: 'the user’s login email', required: true })
  email(v: string) {
    return v;
  }
}

@Command({ name: 'user:disable', description: 'Disable a staff user; their tokens stop working at once' })
export class UserDisableCommand extends ByEmail {
  constructor(private readonly users: UsersService) {
    super();
  }
  async run(_args: string[], o: { email: string }): Promise<void> {
    printJson(await this.users.updateByEmail(o.email, { disabled: true }, CLI_ACTOR));
  }
}

@Command({ name: 'user:enable', description: 'Enable a disabled staff user' })
export class UserEnableCommand extends ByEmail {
  constructor(private readonly users: UsersService) {
    super();
  }
  async run(_args: string[], o: { email: string }): Promise<void> {
    printJson(await this.users.updateByEmail(o.email, { disabled: false }, CLI_ACTOR));
  }
}

@Command({ name: 'user:set-role', description: 'Change a staff user’s role; their tokens stop working at once' })
export class UserSetRoleCommand extends ByEmail {
  constructor(private readonly users: UsersService) {
    super();
  }
  async run(_args: string[], o: { email: string; role: string }): Promise<void> {
    if (!STAFF_ROLES.includes(o.role as StaffRole)) throw new CliError(`role must be one of ${STAFF_ROLES.join(', ')} (got "${o.role}")`);
    printJson(await this.users.updateByEmail(o.email, { role: o.role as StaffRole }, CLI_ACTOR));
  }

  @Option({ flags: '--role <role>', description: 'admin | supervisor | operator | analyst', required: true })
  role(v: string) {
    return v;
  }
}

@Command({ name: 'user:set-password', description: 'Set a staff user’s password (from stdin or OUTREACH_PASSWORD); their tokens stop working' })
export class UserSetPasswordCommand extends ByEmail {
  constructor(private readonly auth: AuthService) {
    super();
  }
  async run(_args: string[], o: { email: string }): Promise<void> {
    printJson(await this.auth.setPassword(o.email, await readPassword(undefined), CLI_ACTOR));
  }
}

@Command({ name: 'user:unlock', description: 'Lift the login locks on an email, from every address' })
export class UserUnlockCommand extends ByEmail {
  constructor(private readonly auth: AuthService) {
    super();
  }
  async run(_args: string[], o: { email: string }): Promise<void> {
    printJson(await this.auth.unlock(o.email, CLI_ACTOR));
  }
}
