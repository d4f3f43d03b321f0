import { Command, CommandRunner } from 'nest-commander';
import { SYSTEM_ACTOR } from '../modules/audit/audit.service.js';
import { VictimMatchingService } from '../modules/victims/victim-matching.service.js';
import { printJson } from './cli-error.js';

@Command({ name: 'victims:match', description: 'Match imported call records to potential victims and rank them' })
export class VictimsMatchCommand extends CommandRunner {
  constructor(private readonly matching: VictimMatchingService) {
    super();
  }

  async run(): Promise<void> {
    printJson(await this.matching.match({ ...SYSTEM_ACTOR, id: 'cli' }));
  }
}
