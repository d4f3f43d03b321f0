import { Command, CommandRunner } from 'nest-commander';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SYSTEM_ACTOR } from '../modules/audit/audit.service.js';
import { callImportSpec } from '../modules/evidence/call-import.spec.js';
import { EvidenceImportsService, ImportKind, ImportView } from '../modules/evidence/evidence-imports.service.js';
import { InstitutionsService } from '../modules/evidence/institutions.service.js';
import { contactImportSpec } from '../modules/victims/contact-import.spec.js';
import { CliError, printJson } from './cli-error.js';
import { progressBar } from './progress.js';

/** Shared by evidence:import and contacts:import: runs the import in this process. */
export async function importFile(
  imports: EvidenceImportsService,
  kind: ImportKind,
  file: string | undefined,
): Promise<ImportView> {
  if (!file) throw new CliError(`give the ${kind === 'calls' ? 'call-records' : 'contacts'} CSV file to import`);
  const full = path.resolve(file);
  if (!existsSync(full) || !statSync(full).isFile()) throw new CliError(`${file} is not a readable file`);
  const id = await imports.create(kind, full, path.basename(full), { ...SYSTEM_ACTOR, id: 'cli' });
  const bar = progressBar(kind === 'calls' ? 'calls   ' : 'contacts');
  const spec = kind === 'calls' ? callImportSpec() : contactImportSpec();
  const view = await imports.run(id, spec, (p) => bar.update(p.bytes, p.totalBytes, `${p.rows.toLocaleString()} rows`));
  bar.stop();
  return view;
}

export function importSummary(v: ImportView) {
  return {
    id: v.id,
    kind: v.kind,
    status: v.status,
    file: v.fileName,
    sha256: v.fileSha256,
    rowsTotal: v.rowsTotal,
    rowsAccepted: v.rowsAccepted,
    rowsRejected: v.rowsRejected,
    rejectedByReason: v.rejectedByReason,
    firstErrors: v.errors.slice(0, 10),
    ...(v.duplicateOf ? { duplicateOf: v.duplicateOf } : {}),
    ...(v.failureReason ? { message: v.failureReason } : {}),
    ...v.summary,
    seconds: v.startedAt && v.finishedAt ? (v.finishedAt.getTime() - v.startedAt.getTime()) / 1000 : null,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

@Command({ name: 'evidence:import', arguments: '<file>', description: 'Import seized call records (CSV) and print a JSON summary' })
export class EvidenceImportCommand extends CommandRunner {
  constructor(
    private readonly imports: EvidenceImportsService,
    private readonly institutions: InstitutionsService,
  ) {
    super();
  }

  async run([file]: string[]): Promise<void> {
    await this.institutions.ensureSeeded();
    const view = await importFile(this.imports, 'calls', file);
    printJson(importSummary(view));
    if (view.status === 'failed') process.exitCode = 1;
  }
}

@Command({ name: 'contacts:import', arguments: '<file>', description: 'Import contact details (CSV: phone,email,full_name,source)' })
export class ContactsImportCommand extends CommandRunner {
  constructor(private readonly imports: EvidenceImportsService) {
    super();
  }

  async run([file]: string[]): Promise<void> {
    const view = await importFile(this.imports, 'contacts', file);
    printJson(importSummary(view));
    if (view.status === 'failed') process.exitCode = 1;
  }
}
