import { Command, CommandRunner, Option } from 'nest-commander';
import { SYSTEM_ACTOR } from '../modules/audit/audit.service.js';
import { AuthService } from '../modules/auth/auth.service.js';
import { printJson } from './cli-error.js';
import { readPassword } from './password-input.js';

interface Options {
  email: string;
  password?: string;
  role: string;
  name?: string;
}

@Command({
  name: 'user:create',
  description: 'Create a staff user (admin, supervisor, operator or analyst); the password comes from stdin or OUTREACH_PASSWORD',
})
export class UserCreateCommand extends CommandRunner {
  constructor(private readonly auth: AuthService) {
    super();
  }

  async run(_args: string[], options: Options): Promise<void> {
    const password = await readPassword(options.password);
    const user = await this.auth.createUser(
      { email: options.email, password, role: options.role, displayName: options.name },
      { ...SYSTEM_ACTOR, id: 'cli' },
    );
    printJson(user);
  }

  @Option({ flags: '--email <email>', description: 'login email', required: true })
  email(v: string) {
    return v;
  }

  @Option({ flags: '--password <password>', description: 'deprecated: shows in `ps` and shell history; use stdin or OUTREACH_PASSWORD' })
  password(v: string) {
    return v;
  }

  @Option({ flags: '--role <role>', description: 'admin | supervisor | operator | analyst', required: true })
  role(v: string) {
    return v;
  }

  @Option({ flags: '--name <name>', description: 'display name' })
  name(v: string) {
    return v;
  }
}
