// app/services/whoami/route.ts
import { route } from '@/lib/hub';

export const runtime = 'nodejs';
// The service's own URL, where the Hub links to: who is calling.
export const GET = route((hub) => hub.protect((request, { hubUser }) => Response.json(hubUser)));
