// Readiness reports to systemd (sd_notify) for a unit of Type=notify: READY=1 once every
// listener is open, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 on the way out.
// Outside systemd (no NOTIFY_SOCKET), or in a build without libsystemd (SY_SYSTEMD=OFF), each
// call does nothing.
// Thread: the control thread.
#pragma once

namespace sy::app {

void notifyReady();
void notifyReloading();
void notifyStopping();

}  // namespace sy::app
