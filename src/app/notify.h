// Reports to systemd for a unit of Type=notify (sd_notify): READY=1 once every listener is
// open, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 on the way out; and its file
// descriptor store, which keeps the pools' listening sockets for the service's next process
// (server/listen_sockets.h; the unit sets FileDescriptorStoreMax=).
// Outside systemd (no NOTIFY_SOCKET), or in a build without libsystemd (SY_SYSTEMD=OFF), each
// call does nothing.
// Thread: the control thread.
#pragma once

#include <string>

#include "server/listen_sockets.h"

namespace sy::app {

void notifyReady();
void notifyReloading();
void notifyStopping();
// STATUS= only.
void notifyStatus(const std::string& status);

// The store that ListenSockets hands its sockets to: systemd's, when there is a notify socket.
server::ListenSockets::Store systemdSocketStore();

}  // namespace sy::app
