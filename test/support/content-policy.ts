import type { ContentPolicy } from '../../src/common/content-rules.js';

/** The content policy the unit tables of the text and HTML rules are written against. */
export const TEST_CONTENT_POLICY: ContentPolicy = {
  orgName: 'Metropolitan Police',
  allowedLinkDomains: ['police.uk', 'gov.uk'],
  smsMaxSegments: 3,
  reportUrl: 'https://outreach.example.org/report',
  longestInstitutionName: 'Nationwide Building Society',
};
