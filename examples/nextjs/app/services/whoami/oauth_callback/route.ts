// app/services/whoami/oauth_callback/route.ts
import { route } from '@/lib/hub';

export const runtime = 'nodejs';
export const GET = route((hub) => hub.routes);
