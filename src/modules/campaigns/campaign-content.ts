import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { checkContent, type ContentPolicy, type Violation } from '../../common/content-rules.js';
import { analyseSms, type SmsAnalysis } from '../../common/sms-segments.js';
import { longestRendering, renderHtmlTemplate, renderTemplate, reportUrlFor, unknownPlaceholders } from '../../common/template.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import type { Channel } from './campaigns.dto.js';

/** What the placeholders become in a preview. */
export const SAMPLE_REFERENCE = 'K7MP4QX9RT2W';
const FALLBACK_INSTITUTION = 'your bank';

export interface TemplateTexts {
  channel: Channel;
  body: string;
  subject?: string;
  /** The HTML part of an email, checked like the text. */
  html?: string;
}

export interface ChannelViolation extends Violation {
  channel: Channel;
}

/**
 * Template content: previews (rendered text, encoding, segments, suggested
 * replacements, violations) and the content rules applied when a campaign is saved.
 * The policy comes from configuration plus the institutions' names, since the longest
 * name decides the longest SMS.
 */
@Injectable()
export class CampaignContent {
  private institutions: { names: string[]; byCode: Map<string, string>; at: number } | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  get reportUrl(): string {
    return reportUrlFor(this.config.publicBaseUrl);
  }

  async policy(): Promise<ContentPolicy> {
    const names = await this.institutionNames();
    const longest = names.reduce((a, b) => (b.length > a.length ? b : a), FALLBACK_INSTITUTION);
    return {
      orgName: this.config.orgName,
      allowedLinkDomains: this.config.allowedLinkDomains,
      smsMaxSegments: this.config.smsMaxSegments,
      reportUrl: this.reportUrl,
      longestInstitutionName: longest,
    };
  }

  /** POST /api/templates/preview. An unknown placeholder is a 400; other rules are listed. */
  async preview(t: TemplateTexts) {
    const unknown = [...new Set([...unknownPlaceholders(t.body), ...unknownPlaceholders(t.subject ?? ''), ...unknownPlaceholders(t.html ?? '')])];
    if (unknown.length > 0) {
      throw new BadRequestException(
        `Unknown placeholder(s) ${unknown.map((n) => `((${n}))`).join(', ')}; the known ones are ((reference)), ((report_url)) and ((institution))`,
      );
    }
    const policy = await this.policy();
    const names = await this.institutionNames();
    const sample = { reference: SAMPLE_REFERENCE, report_url: this.reportUrl, institution: names[0] ?? FALLBACK_INSTITUTION };
    const rendered = {
      subject: t.subject === undefined ? undefined : renderTemplate(t.subject, sample),
      body: renderTemplate(t.body, sample),
      ...(t.channel === 'email' && t.html !== undefined ? { html: renderHtmlTemplate(t.html, sample) } : {}),
    };
    const violations = checkContent(t, policy);
    if (t.channel === 'email') {
      return { channel: t.channel, rendered, characters: rendered.body.length, violations };
    }
    const now = analyseSms(rendered.body);
    const worst = await this.longestSms(t.body);
    return {
      channel: t.channel,
      rendered,
      encoding: now.encoding,
      characters: now.characters,
      segments: now.segments,
      longest: { characters: worst.characters, segments: worst.segments, maxSegments: this.config.smsMaxSegments },
      nonGsmCharacters: now.nonGsmCharacters,
      violations,
    };
  }

  /** The SMS as it renders for the recipient whose message costs most (see longestRendering). */
  async longestSms(body: string): Promise<SmsAnalysis> {
    const names = await this.institutionNames();
    return analyseSms(longestRendering(body, { reportUrl: this.reportUrl, institutionNames: names.length ? names : [FALLBACK_INSTITUTION] }));
  }

  /** Every rule a campaign's templates break, per channel; empty when it may be saved. */
  async violations(templates: TemplateTexts[]): Promise<ChannelViolation[]> {
    const policy = await this.policy();
    return templates.flatMap((t) => checkContent(t, policy).map((v) => ({ ...v, channel: t.channel })));
  }

  /** Institution names, in name order (for previews and the longest rendering). */
  async institutionNames(): Promise<string[]> {
    return (await this.institutionTable()).names;
  }

  /** Institution names by code, for rendering ((institution)); `fresh` reads the table again (a launch does). */
  async institutionNameByCode(fresh = false): Promise<ReadonlyMap<string, string>> {
    return (await this.institutionTable(fresh)).byCode;
  }

  /** The institutions table, read at most once a minute unless asked: every send of an HTML email renders with it. */
  private async institutionTable(fresh = false): Promise<{ names: string[]; byCode: Map<string, string> }> {
    if (fresh || !this.institutions || Date.now() - this.institutions.at > 60_000) {
      const rows: Array<{ code: string; name: string }> = await this.ds.query(`SELECT code, name FROM institutions ORDER BY name`);
      this.institutions = { names: rows.map((r) => r.name), byCode: new Map(rows.map((r) => [r.code, r.name])), at: Date.now() };
    }
    return this.institutions;
  }

  /** The values a victim's message is rendered with. */
  valuesFor(referenceCode: string, institutionCodes: readonly string[], names: ReadonlyMap<string, string>) {
    const first = institutionCodes[0];
    return {
      reference: referenceCode,
      report_url: this.reportUrl,
      institution: (first !== undefined ? names.get(first) : undefined) ?? FALLBACK_INSTITUTION,
    };
  }
}
