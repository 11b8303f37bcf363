// app/services/whoami/admin/route.ts
import { route } from '@/lib/hub';

export const runtime = 'nodejs';
export const GET = route((hub) => hub.protect(() => new Response('hello admins'), { hubGroups: ['admins'] }));
