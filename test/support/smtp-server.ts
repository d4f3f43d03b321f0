import { once } from 'node:events';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerOptions } from 'smtp-server';

export interface ReceivedEmail {
  /** The From header as written, e.g. `Name <x@example.com>`. */
  from: string;
  /** The envelope sender (MAIL FROM). */
  envelopeFrom: string;
  /** The envelope recipients (RCPT TO) that were accepted. */
  to: string[];
  subject: string;
  text: string;
  /** undefined when the message has no HTML part. */
  html: string | undefined;
  /** Header values as sent (unfolded), by lower-case name; the first one when repeated. */
  headers: Record<string, string>;
  /** Message-ID header, angle brackets included. */
  messageId: string | undefined;
  raw: string;
}

export type RecipientRejection = { code: number; message: string } | undefined;

export interface TestSmtpServer {
  port: number;
  /** What SMTP_URL should be; `ignoreTLS` because smtp-server's bundled certificate has expired. */
  url: string;
  /** Every message accepted, in the order the server finished receiving them. */
  received: ReceivedEmail[];
  /** Decides per RCPT TO; return a code and text to reject it, undefined to accept. */
  rejectRecipient(fn: ((address: string) => RecipientRejection) | undefined): void;
  /** Forgets received messages and rejection rules. */
  reset(): void;
  /** Stops listening and ends open connections (with 421, as a server shutting down does). */
  stop(): Promise<void>;
  /** Listens again on the same port (stopping first if it is running). */
  restart(): Promise<void>;
  readonly running: boolean;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 that parses what it gets with mailparser.
 * The server still offers STARTTLS, so a client that does not honour `ignoreTLS` fails on
 * the expired certificate: the tests then show the URL option reached nodemailer.
 */
export async function startSmtpServer(opts: { port?: number } = {}): Promise<TestSmtpServer> {
  const received: ReceivedEmail[] = [];
  let rejecter: ((address: string) => RecipientRejection) | undefined;
  let server: SMTPServer | undefined;
  let port = opts.port ?? 0;

  const options: SMTPServerOptions = {
    authOptional: true,
    logger: false,
    banner: 'test server',
    // stop() should not wait 30 s for idle pooled client connections.
    closeTimeout: 100,
    size: 10 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      const rejection = rejecter?.(address.address);
      if (!rejection) return callback();
      const err = new Error(rejection.message) as Error & { responseCode: number };
      err.responseCode = rejection.code;
      callback(err);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw, { skipTextToHtml: true, skipImageLinks: true })
          .then((parsed) => {
            const headers: Record<string, string> = {};
            for (const h of parsed.headerLines) {
              const value = h.line.slice(h.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
              if (!(h.key in headers)) headers[h.key] = value;
            }
            const mailFrom = session.envelope.mailFrom;
            received.push({
              from: headers['from'] ?? '',
              envelopeFrom: mailFrom ? mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: parsed.html || undefined,
              headers,
              messageId: parsed.messageId,
              raw: raw.toString('utf8'),
            });
            callback();
          })
          .catch((err: Error) => callback(err));
      });
    },
  };

  async function listen(): Promise<void> {
    const s = new SMTPServer(options);
    s.on('error', () => {
      /* client-side resets during stop() are expected */
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      s.server.once('error', onError);
      s.listen(port, '127.0.0.1', () => {
        s.server.removeListener('error', onError);
        resolve();
      });
    });
    port = (s.server.address() as { port: number }).port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    if (!s) return;
    server = undefined;
    const closed = once(s, 'close');
    s.close();
    await closed;
  }

  await listen();

  const handle: TestSmtpServer = {
    get port() {
      return port;
    },
    get url() {
      return `smtp://127.0.0.1:${port}?ignoreTLS=true`;
    },
    received,
    rejectRecipient(fn) {
      rejecter = fn;
    },
    reset() {
      received.length = 0;
      rejecter = undefined;
    },
    stop,
    async restart() {
      await stop();
      await listen();
    },
    get running() {
      return server !== undefined;
    },
  };
  return handle;
}
