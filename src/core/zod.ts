/**
 * zod as this package uses it: the `zod/mini` API, whose functions a bundle keeps only when they
 * are called, with zod's English messages, which `zod/mini` does not load by itself. Import it as
 * a namespace (`import * as z from '../core/zod'`) so that bundlers can drop what is not called.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.cjs';

config(en());

export * from 'zod/mini';
