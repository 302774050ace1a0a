import type { FromSchema } from 'json-schema-to-ts';
import { absolutePath, accountName, metaProperties } from '../defs.js';

export const serviceResourceSchema = {
  $id: 'urn:stead:resource:service',
  type: 'object',
  description: 'A long-running service: systemd where systemd runs; otherwise (containers, tests) a process started and watched by the agent from start/pidfile/pattern.',
  additionalProperties: false,
  required: ['type', 'name'],
  properties: {
    type: { const: 'service', description: 'Resource type.' },
    name: { type: 'string', pattern: '^[A-Za-z0-9@_.:-]+$', description: 'Service (unit) name; also the title.', 'x-hint': 'must be a service name (letters, digits, "@", "_", ".", ":", "-")' },
    ensure: { enum: ['running', 'stopped'], description: 'Whether it runs. Absent: not managed.' },
    enable: { type: 'boolean', description: 'Start at boot (systemd). Absent: not managed.' },
    provider: { enum: ['systemd', 'process'], description: 'Default: systemd when it runs as PID 1, else process.' },
    start: { type: 'string', minLength: 1, description: 'process provider: the command that starts the service (run by /bin/sh, detached).' },
    stop: { type: 'string', minLength: 1, description: 'process provider: a command that stops it; default: send stopsignal to the process.' },
    restart: { type: 'string', minLength: 1, description: 'A command for refresh; default: stop then start.' },
    pidfile: { ...absolutePath, description: 'process provider: file holding the main pid.' },
    pattern: { type: 'string', minLength: 1, description: 'process provider: a regular expression matched against command lines to find the process (default: the start command).' },
    stopsignal: { enum: ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGKILL', 'SIGUSR1', 'SIGUSR2'], description: 'Signal that stops the process (default SIGTERM; SIGKILL after 10 s).' },
    cwd: { ...absolutePath, description: 'process provider: working directory for start.' },
    user: { ...accountName, description: 'process provider: run start as this user.' },
    ...metaProperties,
  },
} as const;
export type ServiceResource = FromSchema<typeof serviceResourceSchema>;
