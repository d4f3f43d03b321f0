import { CoreSchema1764230000000 } from '../../migrations/1764230000000-core-schema.js';
import { EvidenceAndVictims1764240000000 } from '../../migrations/1764240000000-evidence-and-victims.js';
import { Campaigns1764250000000 } from '../../migrations/1764250000000-campaigns.js';
import { Delivery1764260000000 } from '../../migrations/1764260000000-delivery.js';
import { MessageState1764270000000 } from '../../migrations/1764270000000-message-state.js';
import { Auth1764271000000 } from '../../migrations/1764271000000-auth.js';
import { Optout1764272000000 } from '../../migrations/1764272000000-optout.js';

/** Every migration, listed as classes so they run from source (tests) and from dist alike. */
export const MIGRATIONS = [
  CoreSchema1764230000000,
  EvidenceAndVictims1764240000000,
  Campaigns1764250000000,
  Delivery1764260000000,
  MessageState1764270000000,
  Auth1764271000000,
  Optout1764272000000,
];
