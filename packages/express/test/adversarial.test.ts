import express from 'express';
import express4 from 'express4';
import type { Express } from 'express';
import { runAdversarial } from '../../../test/adversarial/run';
import { makeApp } from './app';

runAdversarial('express 5', makeApp(express));
runAdversarial('express 4', makeApp(express4 as unknown as () => Express));
