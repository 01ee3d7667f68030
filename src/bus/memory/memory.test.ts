import { defineBusContract } from '../bus.contract.js';
import { MemoryBus } from './index.js';

defineBusContract('memory', async () => new MemoryBus());
