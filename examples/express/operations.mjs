// Operations routes of the Express example, outside /api/v1 (they are not part of the API, nor of
// its OpenAPI document): GET /healthz (liveness) and /readyz (readiness: database, Redis, queue
// lag) stay open for probes; GET /metrics (Prometheus) and /admin/queues (bull-board, with BullMQ)
// need ALBUMKIT_OPS_TOKEN, as `Authorization: Bearer <token>` or as the password of HTTP Basic
// (the browser asks for it; any user name). The dashboard shows every organization's jobs, which
// is why it takes an operator's token and not an albumkit admin token (an admin of one organization).
import { createHash, timingSafeEqual } from 'node:crypto';
import { JOB_NAMES } from '@albumkit/core';
import { albumkitOpsExpress } from '@albumkit/http-adapter/express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';

const digest = (text) => createHash('sha256').update(text).digest();

/** The credential of a request: a Bearer token, or the password of HTTP Basic. */
function credential(header = '') {
  const [scheme, value = ''] = header.split(' ', 2);
  if (/^bearer$/i.test(scheme)) return value.trim();
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return '';
}

/** 401 without a credential (Basic challenge, so that a browser asks), 403 with a wrong one; compared in constant time. */
export function requireOpsToken(token) {
  const expected = digest(token);
  return (req, res, next) => {
    const given = credential(req.headers.authorization);
    if (!given) return res.status(401).set('WWW-Authenticate', 'Basic realm="albumkit operations", charset="UTF-8"').json({ error: 'ops token required' });
    if (!timingSafeEqual(digest(given), expected)) return res.status(403).json({ error: 'wrong ops token' });
    next();
  };
}

/** Mounts /healthz, /readyz, and (with a token) /metrics and /admin/queues. */
export function mountOperations(app, albumkit, { token = process.env.ALBUMKIT_OPS_TOKEN, log = console.log } = {}) {
  if (token !== undefined && token.length < 16) throw new Error('ALBUMKIT_OPS_TOKEN must be at least 16 characters');
  const ops = albumkitOpsExpress(albumkit);
  app.get(['/healthz', '/readyz'], ops);
  if (!token) {
    log('operations: /healthz and /readyz open; set ALBUMKIT_OPS_TOKEN for /metrics and /admin/queues');
    return;
  }
  const guard = requireOpsToken(token);
  app.get('/metrics', guard, ops);
  const queues = typeof albumkit.jobs.queue === 'function' ? JOB_NAMES.map((name) => albumkit.jobs.queue(name)) : [];
  if (queues.length === 0) {
    log('operations: /metrics behind ALBUMKIT_OPS_TOKEN; no queue dashboard (jobs run in this process; set REDIS_URL)');
    return;
  }
  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter: board });
  app.use('/admin/queues', guard, board.getRouter());
  log('operations: /metrics and /admin/queues (bull-board) behind ALBUMKIT_OPS_TOKEN');
}
