import Fastify from 'fastify';
import Fastify4 from 'fastify4';
import { runContract } from '../../../test/contract/run';
import { makeApp, type FastifyFactory } from './app';

runContract('fastify 5', makeApp(Fastify));
runContract('fastify 4', makeApp(Fastify4 as unknown as FastifyFactory));
