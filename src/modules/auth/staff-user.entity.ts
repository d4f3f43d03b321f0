import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const STAFF_ROLES = ['admin', 'supervisor', 'operator', 'analyst'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

@Entity('staff_users')
export class StaffUser {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') email!: string;
  @Column('text', { name: 'display_name', nullable: true }) displayName!: string | null;
  @Column('text', { name: 'password_hash', select: false }) passwordHash!: string;
  @Column('text') role!: StaffRole;
  @Column('boolean') disabled!: boolean;
  /** Every token carries the version it was issued at; bumping it ends them all. */
  @Column('integer', { name: 'token_version' }) tokenVersion!: number;
  @Column('timestamptz', { name: 'last_login_at', nullable: true }) lastLoginAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
