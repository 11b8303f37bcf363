import Fastify from 'fastify';
import Fastify4 from 'fastify4';
import { runAdversarial } from '../../../test/adversarial/run';
import { makeApp, type FastifyFactory } from './app';

runAdversarial('fastify 5', makeApp(Fastify));
runAdversarial('fastify 4', makeApp(Fastify4 as unknown as FastifyFactory));
