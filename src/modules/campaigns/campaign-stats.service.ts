import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryOne, queryRows } from '../../database/sql.js';
import { ProviderRatesService } from '../settings/provider-rates.service.js';
import type { Channel } from './campaigns.dto.js';
import { CampaignsService } from './campaigns.service.js';
import { estimateFinish } from './eta.js';

/**
 * GET /api/campaigns/:id/stats: where a campaign stands. Counts come from the
 * (campaign_id, status, id) index; sends per minute from one pass over the campaign's
 * sent messages; responses and losses from the victims the campaign reached.
 */
@Injectable()
export class CampaignStatsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly campaigns: CampaignsService,
    private readonly rates: ProviderRatesService,
  ) {}

  async stats(id: string) {
    const c = await this.campaigns.row(id);
    const counts = await queryRows<{ channel: Channel; status: string; n: number }>(
      this.ds,
      `SELECT channel, status, count(*)::int AS n FROM messages WHERE campaign_id = $1 GROUP BY channel, status`,
      [id],
    );
    const byStatus: Record<string, number> = {};
    const byChannel: Partial<Record<Channel, Record<string, number>>> = {};
    for (const r of counts) {
      byStatus[r.status] = (byStatus[r.status] ?? 0) + r.n;
      (byChannel[r.channel] ??= {})[r.status] = r.n;
    }
    const perMinute = await queryRows<{ minute: Date; sent: number }>(
      this.ds,
      `SELECT date_trunc('minute', sent_at) AS minute, count(*)::int AS sent
         FROM messages WHERE campaign_id = $1 AND sent_at IS NOT NULL GROUP BY 1 ORDER BY 1`,
      [id],
    );
    const since = c.launched_at ?? c.created_at;
    const replies = await queryOne<{ responses: number; losses: number; pence: string }>(
      this.ds,
      `WITH reached AS (SELECT DISTINCT victim_id FROM messages WHERE campaign_id = $1 AND sent_at IS NOT NULL)
       SELECT (SELECT count(*)::int FROM inbound_messages i JOIN reached r ON r.victim_id = i.victim_id WHERE i.received_at >= $2)
            + (SELECT count(*)::int FROM loss_reports l JOIN reached r ON r.victim_id = l.victim_id WHERE l.created_at >= $2) AS responses,
              (SELECT count(*)::int FROM loss_reports l JOIN reached r ON r.victim_id = l.victim_id WHERE l.created_at >= $2 AND l.lost_money) AS losses,
              (SELECT coalesce(sum(amount_pence), 0)::text FROM loss_reports l JOIN reached r ON r.victim_id = l.victim_id WHERE l.created_at >= $2 AND l.lost_money) AS pence`,
      [id, since],
    );
    const rates = await this.rates.get();
    const remaining = (ch: Channel) => (byChannel[ch]?.queued ?? 0) + (byChannel[ch]?.sending ?? 0) + (byChannel[ch]?.pending ?? 0);
    const eta = ['running', 'scheduled', 'paused'].includes(c.status)
      ? estimateFinish({
          messages: { sms: remaining('sms'), email: remaining('email') },
          ratePerSecond: { sms: rates.sms, email: rates.email },
          window: c.send_window,
          start: c.start_at && c.start_at > new Date() ? c.start_at : new Date(),
        })
      : null;
    return {
      campaignId: c.id,
      status: c.status,
      audience: c.audience_size ?? 0,
      messages: counts.reduce((a, r) => a + r.n, 0),
      byStatus,
      byChannel,
      sentPerMinute: perMinute.map((p) => ({ minute: p.minute, sent: p.sent })),
      responses: replies?.responses ?? 0,
      lossesConfirmed: replies?.losses ?? 0,
      lossesTotalPence: Number(replies?.pence ?? 0),
      eta: c.status === 'paused' ? { ...eta, text: 'paused' } : eta,
      completedAt: c.completed_at,
    };
  }
}
