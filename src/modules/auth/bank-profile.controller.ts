import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { BankApi, BankPrincipal, CurrentBank } from '../../common/access.js';
import { queryOne } from '../../database/sql.js';

/** Lets a bank check its key and see what the platform holds about it. */
@ApiTags('bank')
@ApiBearerAuth()
@Controller('api/bank')
export class BankProfileController {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  @Get('profile')
  @BankApi()
  profile(@CurrentBank() bank: BankPrincipal) {
    return queryOne(
      this.ds,
      `SELECT id, name, api_key_prefix AS "apiKeyPrefix", webhook_url AS "webhookUrl",
              institution_code AS "institutionCode", created_at AS "createdAt"
         FROM banks WHERE id = $1`,
      [bank.bankId],
    );
  }
}
