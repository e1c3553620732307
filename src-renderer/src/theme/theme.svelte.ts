// The current colour scheme, following the operating system (prefers-color-scheme).
import type { ThemeName } from './colours';

const query = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;

export const theme = $state<{ name: ThemeName }>({ name: query?.matches ? 'dark' : 'light' });

query?.addEventListener('change', (e) => {
  theme.name = e.matches ? 'dark' : 'light';
});
