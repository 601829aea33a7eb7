#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from '../lib/config';
import { buildPlatform } from '../lib/platform';

const app = new App();
try {
  const { profile, config } = loadConfig(app.node);
  buildPlatform(app, profile, config);
} catch (error) {
  if (error instanceof ConfigError) {
    // A configuration mistake is the user's to fix: print the message alone, no stack trace.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
