import { defineBusContract } from '../bus.contract.js';
import { MemoryBus } from './memory-bus.js';

defineBusContract('memory', async () => new MemoryBus());
