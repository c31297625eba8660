/**
 * A ZAP handler (ZeroMQ RFC 27): the CURVE handshake asks it whether a client's public key may
 * connect. Without one, libzmq lets in any client that knows the server's public key; with it, only
 * the keys a server lists.
 *
 * libzmq looks for the handler at `inproc://zeromq.zap.01` in the socket's context, so there is one
 * per process (every socket here uses zeromq.js's default context). Each CURVE server registers its
 * accepted keys under its own ZAP domain; the handler closes when the last one leaves.
 */
import * as zmq from 'zeromq';
import { randomBytes } from 'node:crypto';
import { z85Encode } from './curve-keys.js';

const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

interface Domain {
  keys: Map<string, string>; // Z85 public key -> client name
  onDenied?: (address: string) => void;
}

let sock: zmq.Reply | null = null;
let starting: Promise<zmq.Reply> | null = null;
const domains = new Map<string, Domain>();

async function serve(s: zmq.Reply): Promise<void> {
  try {
    for await (const msg of s) {
      // Request: version, request id, domain, address, identity, mechanism, credentials...
      const [version, requestId, domainBuf, addressBuf, , mechanismBuf, credential] = msg;
      const domain = domains.get(domainBuf?.toString() ?? '');
      const mechanism = mechanismBuf?.toString() ?? '';
      let status = '400';
      let text = 'no such ZAP domain';
      let user = '';
      if (version?.toString() !== '1.0') text = 'unsupported ZAP version';
      else if (!domain) {
        // A socket that asked for no authentication (mechanism NULL) is not this handler's business.
        if (mechanism === 'NULL') [status, text] = ['200', 'OK'];
      } else if (mechanism !== 'CURVE' || !credential || credential.length !== 32) text = 'CURVE required';
      else {
        const name = domain.keys.get(z85Encode(credential));
        if (name !== undefined) [status, text, user] = ['200', 'OK', name];
        else {
          text = 'client key not accepted';
          domain.onDenied?.(addressBuf?.toString() ?? '?');
        }
      }
      await s.send([version ?? '1.0', requestId ?? '', status, text, user, '']);
    }
  } catch {
    // closed
  }
}

/**
 * Accepts `keys` (Z85 public key -> name) on a fresh ZAP domain; returns the domain (set it as the
 * server socket's `zapDomain`) and a function that withdraws it.
 */
export async function registerZapDomain(keys: Map<string, string>, onDenied?: (address: string) => void): Promise<{ domain: string; release: () => void }> {
  if (!sock) {
    // Two servers starting at once share one bind.
    starting ??= (async () => {
      const s = new zmq.Reply({ linger: 0 });
      try {
        await s.bind(ZAP_ENDPOINT);
      } catch (err) {
        s.close();
        throw new Error(`cannot start the ZAP handler at ${ZAP_ENDPOINT} (another one in this process?): ${(err as Error).message}`);
      } finally {
        starting = null;
      }
      sock = s;
      void serve(s);
      return s;
    })();
    await starting;
  }
  const domain = `pbrl-${randomBytes(8).toString('hex')}`;
  domains.set(domain, { keys, onDenied });
  let released = false;
  return {
    domain,
    release: () => {
      if (released) return;
      released = true;
      domains.delete(domain);
      if (domains.size === 0 && sock) {
        sock.close();
        sock = null;
      }
    },
  };
}
