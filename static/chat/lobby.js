// The lobby shows times in the reader's own time zone, and your rooms' counts
// (refreshed from /api/rooms/: the lobby has no socket).
import { Sidebar, pollRooms } from "./sidebar.js";
import { localizeTimes } from "./time.js";

localizeTimes();
const rooms = document.querySelector('[data-testid="rooms-nav"]');
if (rooms) pollRooms(new Sidebar(rooms, { me: { id: null } }));
