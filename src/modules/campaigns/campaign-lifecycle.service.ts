import { Injectable, Logger } from '@nestjs/common';
import type { StaffPrincipal } from '../../common/access.js';
import { CampaignLaunchService } from './campaign-launch.service.js';
import { CampaignsService } from './campaigns.service.js';

/**
 * Pause, resume and cancel, each one method that does the whole move: the status change
 * (row lock, state machine, audit, and for cancel every waiting message cancelled, in
 * one transaction) and then the queue side. Whoever calls (the API, the CLI, the
 * dashboard) makes one call and gets the same behaviour.
 *
 * The queue side is not part of correctness: a worker re-checks the campaign before
 * every send (a paused campaign's message goes back to queued, a cancelled one's is
 * already cancelled). It keeps rate slots for other campaigns (pause, cancel) and gives
 * held messages their jobs back (resume).
 */
@Injectable()
export class CampaignLifecycleService {
  private readonly logger = new Logger(CampaignLifecycleService.name);

  constructor(
    private readonly campaigns: CampaignsService,
    private readonly launcher: CampaignLaunchService,
  ) {}

  async pause(id: string, staff: StaffPrincipal, ip: string | null) {
    const paused = await this.campaigns.move(id, 'pause', staff, ip);
    this.dequeueLater(id, 'queued');
    return paused;
  }

  async resume(id: string, staff: StaffPrincipal, ip: string | null) {
    const resumed = await this.campaigns.move(id, 'resume', staff, ip);
    // Messages held while paused got no job back: offer them again (present ones are not
    // duplicated). Like launch, a committed resume stands even if Redis does not answer.
    try {
      return { ...resumed, enqueued: await this.launcher.enqueueQueued(id) };
    } catch (err) {
      this.logger.warn({ campaignId: id, err: { message: (err as Error).message } }, 'resume committed; enqueue failed, left to the reconciler');
      return { ...resumed, enqueued: 0, enqueueError: 'The campaign is running again, but its messages could not be queued yet; the reconciler queues them within a minute.' };
    }
  }

  async cancel(id: string, staff: StaffPrincipal, ip: string | null) {
    const cancelled = await this.campaigns.move(id, 'cancel', staff, ip);
    this.dequeueLater(id, 'cancelled');
    return cancelled;
  }

  /**
   * The move is done and answered; its jobs leave the queues in the background (see
   * CampaignLaunchService.dequeue). A failure here costs rate slots, never a message.
   */
  private dequeueLater(id: string, status: 'queued' | 'cancelled'): void {
    void this.launcher.dequeue(id, status).catch((err: Error) =>
      this.logger.warn({ campaignId: id, err: { message: err.message } }, "could not take the campaign's jobs off the queues"),
    );
  }
}
