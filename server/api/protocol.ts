/**
 * The agent protocol version (security.md A6, downgrade). Agents may send
 * `X-Stead-Protocol: <version>`; the server speaks exactly the versions in
 * `supportedProtocols`. A request without the header is protocol 1 (every agent released so far
 * sends none). An explicit version the server does not speak, older or newer, is refused with
 * 400 UNSUPPORTED_PROTOCOL before anything else is looked at, so a request can never be served
 * under an older version's rules. Every agent route answers with the version it used.
 *
 * The header is not part of the signed string: stripping it can only select protocol 1, the
 * current one. A future protocol 2 must sign the version (or refuse requests without it).
 */
import { ApiError } from '../domain/errors.js';
import type { AppContext } from './app-state.js';

export const protocolHeader = 'X-Stead-Protocol';
/** The protocol a request without the header speaks. */
export const defaultProtocol = 1;
export const supportedProtocols: readonly number[] = [1];

/**
 * Resolves the request's protocol version and echoes it on the response; throws ApiError
 * UNSUPPORTED_PROTOCOL for an explicit version that is not supported (or not a version at all).
 */
export function checkProtocol(ctx: AppContext): number {
  const raw = ctx.get(protocolHeader);
  let version = defaultProtocol;
  if (raw !== '') {
    version = /^[1-9][0-9]{0,5}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!supportedProtocols.includes(version)) {
      throw new ApiError('UNSUPPORTED_PROTOCOL', `${protocolHeader} ${JSON.stringify(raw.slice(0, 32))} is not supported: this server speaks protocol ${supportedProtocols.join(', ')}; upgrade the agent or send no ${protocolHeader} header`, { supported: supportedProtocols });
    }
  }
  ctx.set(protocolHeader, String(version));
  return version;
}
