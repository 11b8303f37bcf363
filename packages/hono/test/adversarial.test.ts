import { runAdversarial } from '../../../test/adversarial/run';
import { serveOnNode } from '../../web/test/app';
import { teamPolicy } from '../../../test/contract/types';
import { frameworkRelease } from '../../../test/peers/release';
import { contractHono } from './app';

// `hono` is Hono 4's newest release here, the oldest in its peer project (jest.config.cjs).
runAdversarial(`${frameworkRelease('hono', require.resolve('hono'))} on Node`, (options) => {
  const team = teamPolicy();
  return serveOnNode(contractHono(options, team).fetch, team);
});
