import Fastify from 'fastify';
import { runContract } from '../../../test/contract/run';
import { frameworkRelease } from '../../../test/peers/release';
import { makeApp } from './app';

// `fastify` is Fastify 5's newest release here, another release in the peer projects (jest.config.cjs).
runContract(frameworkRelease('fastify', require.resolve('fastify')), makeApp(Fastify));
