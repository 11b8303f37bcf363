import { runAdversarial } from '../../../test/adversarial/run';
import { serveOnNode } from '../../web/test/app';
import { contractHono } from './app';

runAdversarial('hono 4 on Node', (options) => serveOnNode(contractHono(options).fetch));
