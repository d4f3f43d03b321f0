import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
import { STAFF_ROLES, StaffRole } from './staff-user.entity.js';

export class UpdateUserDto {
  @ApiPropertyOptional({ enum: STAFF_ROLES })
  @IsOptional()
  @IsIn(STAFF_ROLES, { message: `role must be one of ${STAFF_ROLES.join(', ')}` })
  role?: StaffRole;

  @ApiPropertyOptional({ description: 'true ends every token of the user at once' })
  @IsOptional()
  @IsBoolean({ message: 'disabled must be true or false' })
  disabled?: boolean;
}

export class StaffUserDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ nullable: true, type: String }) displayName!: string | null;
  @ApiProperty({ enum: STAFF_ROLES }) role!: StaffRole;
  @ApiProperty() disabled!: boolean;
  @ApiProperty({ nullable: true, type: Date }) lastLoginAt!: Date | null;
  @ApiProperty() createdAt!: Date;
}

export class StaffUserPageDto {
  @ApiProperty({ type: [StaffUserDto] }) items!: StaffUserDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
