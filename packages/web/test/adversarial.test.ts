import { runAdversarial } from '../../../test/adversarial/run';
import { teamPolicy } from '../../../test/contract/types';
import { contractFetch, serveOnNode } from './app';

runAdversarial('web (fetch handlers on Node)', (options) => {
  const team = teamPolicy();
  return serveOnNode(contractFetch(options, team), team);
});
