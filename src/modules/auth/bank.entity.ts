import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('banks')
export class Bank {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') name!: string;
  @Column('text', { name: 'api_key_hash', select: false }) apiKeyHash!: string;
  @Column('text', { name: 'api_key_prefix' }) apiKeyPrefix!: string;
  @Column('text', { name: 'webhook_url', nullable: true }) webhookUrl!: string | null;
  @Column('text', { name: 'webhook_secret', select: false }) webhookSecret!: string;
  @Column('text', { name: 'customer_hash_key', select: false }) customerHashKey!: string;
  @Column('text', { name: 'institution_code', nullable: true }) institutionCode!: string | null;
  @Column('boolean') active!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
