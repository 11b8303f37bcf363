import { runContract } from '../../../test/contract/run';
import { teamPolicy } from '../../../test/contract/types';
import { contractFetch, serveOnNode } from './app';

runContract('web (fetch handlers on Node)', (options) => {
  const team = teamPolicy();
  return serveOnNode(contractFetch(options, team), team);
});
