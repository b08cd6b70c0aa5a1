// The edge's QStash check (before): the Upstash-Signature JWT verified on the raw body and our own public URL.
import type { Receiver } from '@upstash/qstash';
import { AuthError } from '../errors.js';
import { logger } from '../log.js';
import type { EdgeMiddleware } from './event.js';

/** Seconds of clock difference tolerated on the JWT's nbf/exp. */
const CLOCK_TOLERANCE_S = 5;

/** What verifies a signature: @upstash/qstash's Receiver. */
export type SignatureVerifier = Pick<Receiver, 'verify'>;

/** before: 401 unless the body (read by the body middleware) is signed for `url()`, the URL QStash was given. */
export function qstashSignature(verifier: () => SignatureVerifier, url: () => string): EdgeMiddleware {
  return {
    before: async ({ event: req }) => {
      const signature = req.header('upstash-signature');
      if (!signature) throw new AuthError('missing QStash signature');
      const valid = await verifier()
        .verify({ signature, body: req.text, url: url(), clockTolerance: CLOCK_TOLERANCE_S })
        .catch((err: unknown) => {
          const reason = err instanceof Error ? err.message : String(err);
          logger.warn(
            { requestId: req.requestId, path: req.event.rawPath, reason },
            'QStash signature refused',
          );
          return false;
        });
      if (!valid) throw new AuthError('invalid QStash signature');
    },
  };
}
