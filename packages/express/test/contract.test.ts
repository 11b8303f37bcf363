import express from 'express';
import { runContract } from '../../../test/contract/run';
import { frameworkRelease } from '../../../test/peers/release';
import { makeApp } from './app';

// `express` is Express 5's newest release here, another release in the peer projects (jest.config.cjs).
runContract(frameworkRelease('express', require.resolve('express')), makeApp(express));
