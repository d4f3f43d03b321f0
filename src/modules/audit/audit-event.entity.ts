import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type ActorType = 'staff' | 'bank' | 'victim' | 'system';

@Entity('audit_events')
export class AuditEvent {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' }) id!: string;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt!: Date;
  @Column('text', { name: 'actor_type' }) actorType!: ActorType;
  @Column('text', { name: 'actor_id', nullable: true }) actorId!: string | null;
  @Column('text') action!: string;
  @Column('text', { name: 'subject_type', nullable: true }) subjectType!: string | null;
  @Column('text', { name: 'subject_id', nullable: true }) subjectId!: string | null;
  @Column('jsonb') details!: Record<string, unknown>;
  @Column('inet', { nullable: true }) ip!: string | null;
}
