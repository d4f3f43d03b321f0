import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { LiveStaff, StaffUsersRepository } from './staff-users.repository.js';

const MAX_ENTRIES = 10_000;

/**
 * What the guard read of each user, kept for ACCESS_CACHE_MS (at most 30 s) so that a
 * request costs no extra query. Changes made by this process drop the entry at once;
 * other processes see them when their entry ages out.
 */
@Injectable()
export class StaffAccessCache {
  private readonly entries = new Map<string, { readAt: number; staff: LiveStaff | null }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: StaffUsersRepository,
  ) {}

  async get(userId: string): Promise<LiveStaff | null> {
    const now = Date.now();
    const hit = this.entries.get(userId);
    if (hit && now - hit.readAt < this.config.accessCacheMs) return hit.staff;
    const staff = (await this.users.findLive(userId)) ?? null;
    if (this.config.accessCacheMs > 0) {
      // Entries are small and staff few; a full map means something odd, not a working set.
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(userId, { readAt: now, staff });
    }
    return staff;
  }

  invalidate(userId: string): void {
    this.entries.delete(userId);
  }
}
