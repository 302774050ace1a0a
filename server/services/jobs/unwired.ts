/**
 * Fail-closed stand-ins for job ports whose real implementation is not wired yet: each refuses
 * with a message naming what is missing. None lets work through unchecked (the auditor refuses
 * every script, it never passes one).
 */
import { ApiError } from '../../domain/errors.js';
import type { JobPorts } from './ports.js';

const missing = (what: string): ApiError => new ApiError('SERVER_BUSY', `${what} is not available on this server yet`);

export const unwiredPorts: JobPorts = {
  auditor: { check: () => Promise.reject(missing('the script safety audit')) },
  scripts: { resolve: () => Promise.reject(missing('the script library')) },
  accounts: { get: () => Promise.reject(missing('execution accounts')) },
  runners: {
    files: () => Promise.reject(missing('file distribution')),
    probe: () => Promise.reject(missing('probes')),
    local: () => Promise.reject(missing('local scripts')),
  },
};
