import { runAdversarial } from '../../../test/adversarial/run';
import { serveOnNode } from '../../web/test/app';
import { teamPolicy } from '../../../test/contract/types';
import { contractHono } from './app';

runAdversarial('hono 4 on Node', (options) => {
  const team = teamPolicy();
  return serveOnNode(contractHono(options, team).fetch, team);
});
