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

/**
 * How the server can betray a client once it has the whole message (after the final
 * `.` of DATA), which is when SMTP leaves the client unable to tell what happened:
 *  - drop_after_data: keep the message (it "reached the provider"), then close the
 *    connection without the 250 reply;
 *  - stall_after_data: keep it and never reply: the client's socket timeout ends it;
 *  - defer_after_data: answer 451 (the server did not take it; a retry is right);
 *  - reject_after_data: answer 554 (refused for good).
 * The last two are definite answers, not ambiguity: nothing is kept.
 */
export type SmtpBetrayal = 'drop_after_data' | 'stall_after_data' | 'defer_after_data' | 'reject_after_data';

/** What a betrayal predicate gets: the parsed message and how many times this Message-ID came before. */
export interface SmtpDataAttempt {
  /** Our message id from the Message-ID (`<msg-<id>@…>`), if it carries one. */
  messageId: string | undefined;
  to: string[];
  /** 1 for the first DATA of this Message-ID, 2 for the next, … */
  attempt: number;
}

export interface TestSmtpServer {
  port: number;
  /** What SMTP_URL should be; `ignoreTLS` because smtp-server's bundled certificate has expired. */
  url: string;
  /**
   * Every message the server kept, in the order it finished receiving them: accepted
   * with 250, and also those it kept but dropped or stalled the reply to (the "reached
   * the provider" record, where a double send shows). Not those answered 451/554.
   */
  received: ReceivedEmail[];
  /** Messages fully received but answered 451/554 after DATA (not kept). */
  refused: ReceivedEmail[];
  /** How many kept messages carry our message id (see ourMessageId). */
  deliveries(messageId: string | number): number;
  /** DATA transfers completed for our message id, whatever the answer. */
  dataAttempts(messageId: string | number): number;
  /** The next n DATA transfers suffer this. */
  betrayNext(n: number, betrayal: SmtpBetrayal): void;
  /** Every DATA for which fn returns a betrayal suffers it (after betrayNext). Pass undefined to clear. */
  betrayWhen(fn: ((attempt: SmtpDataAttempt) => SmtpBetrayal | undefined) | undefined): void;
  /** Decides per RCPT TO (attempt: 1 for this address's first RCPT, …); return a code and text to reject it, undefined to accept. */
  rejectRecipient(fn: ((address: string, attempt: number) => RecipientRejection) | undefined): void;
  /** Forgets received messages, rejection rules and betrayals. */
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
  const refused: ReceivedEmail[] = [];
  const attempts = new Map<string, number>();
  const betrayals: SmtpBetrayal[] = [];
  let betrayFn: ((attempt: SmtpDataAttempt) => SmtpBetrayal | undefined) | undefined;
  let rejecter: ((address: string, attempt: number) => RecipientRejection) | undefined;
  const rcptAttempts = new Map<string, number>();
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
      const attempt = (rcptAttempts.get(address.address) ?? 0) + 1;
      rcptAttempts.set(address.address, attempt);
      const rejection = rejecter?.(address.address, attempt);
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
            const mail: ReceivedEmail = {
              from: headers['from'] ?? '',
              envelopeFrom: mailFrom ? mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: parsed.html || undefined,
              headers,
              messageId: parsed.messageId,
              raw: raw.toString('utf8'),
            };
            const id = ourMessageId(mail.messageId);
            const key = id ?? mail.messageId ?? '';
            const attempt = (attempts.get(key) ?? 0) + 1;
            attempts.set(key, attempt);
            const betrayal = betrayals.shift() ?? betrayFn?.({ messageId: id, to: mail.to, attempt });
            switch (betrayal) {
              case undefined:
                received.push(mail);
                return callback();
              case 'drop_after_data':
                received.push(mail);
                return dropConnection(session.id);
              case 'stall_after_data':
                // Never answered; the client's timeout closes the connection.
                received.push(mail);
                return;
              case 'defer_after_data':
                refused.push(mail);
                return callback(smtpError(451, '4.3.0 Temporary failure after DATA, try again later'));
              case 'reject_after_data':
                refused.push(mail);
                return callback(smtpError(554, '5.7.1 Message refused after DATA'));
            }
          })
          .catch((err: Error) => callback(err));
      });
    },
  };

  /** Closes the client's connection without a reply, as a server that crashes or loses the network would. */
  function dropConnection(sessionId: string): void {
    // smtp-server keeps its connections in `connections`; a session's id is its connection's.
    const connections = (server as unknown as { connections?: Set<{ id: string; _socket?: { destroy(): void } }> } | undefined)?.connections;
    for (const c of connections ?? []) if (c.id === sessionId) c._socket?.destroy();
  }

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
    refused,
    deliveries: (messageId) => received.filter((m) => ourMessageId(m.messageId) === String(messageId)).length,
    dataAttempts: (messageId) => attempts.get(String(messageId)) ?? 0,
    betrayNext(n, betrayal) {
      for (let i = 0; i < n; i++) betrayals.push(betrayal);
    },
    betrayWhen(fn) {
      betrayFn = fn;
    },
    rejectRecipient(fn) {
      rejecter = fn;
    },
    reset() {
      received.length = 0;
      refused.length = 0;
      attempts.clear();
      rcptAttempts.clear();
      betrayals.length = 0;
      betrayFn = undefined;
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

/**
 * Our message id from a Message-ID header: SmtpEmailProvider writes `<msg-<id>@<domain>>`
 * (src/modules/delivery/providers/smtp-email.provider.ts), so a receiving system (and this
 * server) can tell a repeat of one message from another message.
 */
export function ourMessageId(messageIdHeader: string | undefined): string | undefined {
  const m = /^<?msg-([^@>]+)@/.exec(messageIdHeader ?? '');
  return m ? m[1] : undefined;
}

function smtpError(code: number, message: string): Error {
  const err = new Error(message) as Error & { responseCode: number };
  err.responseCode = code;
  return err;
}
