import { runContract } from '../../../test/contract/run';
import { serveOnNode } from '../../web/test/app';
import { contractHono } from './app';

runContract('hono 4 on Node', (options) => serveOnNode(contractHono(options).fetch));
