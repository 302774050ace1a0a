/** The policy of a canary rollout (issue 10, ADR 0017); in its own module so revision.ts and rollouts.ts both use it. */

/** How a rollout proceeds: batches, gates, waits, health probes and the failure threshold. */
export const rolloutPolicy = {
  type: 'object',
  additionalProperties: false,
  required: ['batches'],
  description: 'How a change is delivered in batches.',
  properties: {
    batches: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      pattern: '^\\s*\\+?\\d+(\\.\\d+)?%?(\\s*,\\s*\\+?\\d+(\\.\\d+)?%?)*\\s*$',
      description:
        'Batch expression: comma-separated cumulative targets. "N" = N hosts in total, "P%" = P % of the hosts in total, "+N"/"+P%" = that many more each batch until the next target. "1,10%,+20%,100%": one host, then 10 %, then 20 % more each time, then the rest. The rest is always delivered: an expression that ends below 100 % gets a final batch.',
      'x-hint': 'batches look like "1,10%,+20%,100%": counts, percentages, and "+" steps',
    },
    gate: { enum: ['manual', 'auto'], description: 'manual: every batch after the first waits for an operator (continue); auto: batches follow when healthy. Default auto.' },
    waitBetweenSeconds: { type: 'integer', minimum: 0, maximum: 604800, description: 'Seconds to wait after a healthy batch before the next starts. Default 0.' },
    maxFailures: {
      type: 'object',
      additionalProperties: false,
      description: 'The rollout pauses when failures exceed max(count, percent % of the hosts), judged per batch (against the batch size) and overall (against all hosts). Default: count 0, any failure pauses.',
      properties: {
        count: { type: 'integer', minimum: 0, maximum: 1000000, description: 'Failures tolerated regardless of size.' },
        percent: { type: 'number', minimum: 0, maximum: 100, description: 'Failures tolerated as a percentage of the hosts judged.' },
      },
    },
    batchTimeoutSeconds: { type: 'integer', minimum: 10, maximum: 86400, description: 'How long a batch may take to report (revisions: a run of the new revision from every host; jobs: the batch job finishing). A host that has not reported by then counts as a failure ("no report"). Default 600.' },
    probes: {
      type: 'array',
      maxItems: 20,
      description: 'Health probes run by the server against every host of a finished batch (its inventory address); all must pass.',
      items: {
        type: 'object',
        additionalProperties: false,
        description: 'One probe: tcp, http or a saved script run on the server.',
        properties: {
          tcp: { type: 'object', additionalProperties: false, required: ['port'], properties: { port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Port that must accept a connection.' } }, description: 'TCP connect.' },
          http: {
            type: 'object',
            additionalProperties: false,
            required: ['port'],
            description: 'HTTP GET that must answer with the status.',
            properties: {
              port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Port.' },
              path: { type: 'string', maxLength: 2000, pattern: '^/', description: 'Path, default /.' },
              status: { type: 'integer', minimum: 100, maximum: 599, description: 'Expected status, default 200.' },
              https: { type: 'boolean', description: 'Use HTTPS (the certificate is not verified).' },
            },
          },
          script: { type: 'string', minLength: 1, maxLength: 200, description: 'A saved script run on the server once per host with STEAD_HOST and STEAD_HOST_ADDRESS; exit 0 passes.' },
          timeoutSeconds: { type: 'integer', minimum: 1, maximum: 300, description: 'Deadline of the probe, default 5 (scripts: 60).' },
        },
      },
    },
    includeInactive: { type: 'boolean', description: 'Also deliver to hosts whose lifecycle is not online (once the inventory tracks lifecycle). Default false.' },
  },
} as const;
