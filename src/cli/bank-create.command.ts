import { Command, CommandRunner, Option } from 'nest-commander';
import { SYSTEM_ACTOR } from '../modules/audit/audit.service.js';
import { AuthService } from '../modules/auth/auth.service.js';
import { printJson } from './cli-error.js';

interface Options {
  name: string;
  webhookUrl?: string;
  institution?: string;
}

@Command({
  name: 'bank:create',
  description: 'Register a bank; prints its API key, webhook secret and customer-hash key once, as JSON',
})
export class BankCreateCommand extends CommandRunner {
  constructor(private readonly auth: AuthService) {
    super();
  }

  async run(_args: string[], options: Options): Promise<void> {
    const bank = await this.auth.createBank(
      { name: options.name, webhookUrl: options.webhookUrl, institutionCode: options.institution },
      { ...SYSTEM_ACTOR, id: 'cli' },
    );
    printJson(bank);
  }

  @Option({ flags: '--name <name>', description: 'bank name', required: true })
  name(v: string) {
    return v;
  }

  @Option({ flags: '--webhook-url <url>', description: 'https URL for signed referral pushes' })
  webhookUrl(v: string) {
    return v;
  }

  @Option({ flags: '--institution <code>', description: 'institution code (seeds/institutions.csv) this bank answers for' })
  institution(v: string) {
    return v;
  }
}
