import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { ALL_STAFF, ClientIp, CurrentStaff, Roles, StaffPrincipal } from '../../common/access.js';
import { ProviderRatesService } from './provider-rates.service.js';

export class ProviderRatesDto {
  @ApiProperty({ description: 'SMS per second, across all workers' })
  @IsInt({ message: 'sms must be a whole number of messages per second' })
  @Min(1, { message: 'sms must be from 1 to 10000 messages per second' }) @Max(10_000, { message: 'sms must be from 1 to 10000 messages per second' })
  sms!: number;

  @ApiProperty({ description: 'emails per second, across all workers' })
  @IsInt({ message: 'email must be a whole number of messages per second' })
  @Min(1, { message: 'email must be from 1 to 10000 messages per second' }) @Max(10_000, { message: 'email must be from 1 to 10000 messages per second' })
  email!: number;
}

@ApiTags('settings')
@ApiBearerAuth()
@Controller('api/settings/provider-rates')
export class SettingsController {
  constructor(private readonly rates: ProviderRatesService) {}

  @Get()
  @Roles(...ALL_STAFF)
  get() {
    return this.rates.get();
  }

  /** Changes the providers' rates for every running campaign at once. Admin only; audited. */
  @Put()
  @Roles('admin')
  set(@Body() dto: ProviderRatesDto, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.rates.set({ sms: dto.sms, email: dto.email }, staff, ip);
  }
}
