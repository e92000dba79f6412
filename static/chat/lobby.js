// The lobby needs no live updates; it only shows times in the reader's own time zone.
import { localizeTimes } from "./time.js";

localizeTimes();
