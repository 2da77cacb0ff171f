import type { AuthPlugin } from '@larder/core';

/** The `larder-auth-apikey` auth plugin (`auth.type: larder-auth-apikey`). */
declare const plugin: AuthPlugin;
export = plugin;
