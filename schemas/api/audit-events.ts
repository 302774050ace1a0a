/** GET /api/v1/audit/events: the audit log of operator changes (issue 12). */
import type { FromSchema } from 'json-schema-to-ts';

const event = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'at', 'actor', 'action', 'target'],
  properties: {
    id: { type: 'string', description: 'Event id (sorts by time).' },
    at: { type: 'string', format: 'date-time', description: 'When the change was made.' },
    actor: { type: 'string', description: 'Who: an operator name, "system", or "schedule:<name>".' },
    action: { type: 'string', description: 'What: a dotted verb, e.g. job.launch, revision.publish, inventory.patch.' },
    target: { type: 'string', description: 'On what: kind:name, e.g. job:<id>, host:<name>, revision:<id>.' },
    address: { type: 'string', description: 'The client address, when the change came over HTTP.' },
    before: { description: 'The state before (any JSON).' },
    after: { description: 'The state after (any JSON).' },
    details: { description: 'Further details (reason, counts, …).' },
  },
} as const;

export const auditEventListSchema = {
  $id: 'urn:stead:api:audit-event-list',
  type: 'object',
  description: 'A page of audit events, newest first.',
  additionalProperties: false,
  required: ['events'],
  properties: {
    events: { type: 'array', items: event, description: 'The events, newest first.' },
    next: { type: 'string', description: 'Cursor of the next (older) page; absent on the last page.' },
    scanned: { type: 'integer', description: 'With q: events examined in this call (at most 5000); a page may be short while next is present.' },
  },
} as const;
export type AuditEventList = FromSchema<typeof auditEventListSchema>;
