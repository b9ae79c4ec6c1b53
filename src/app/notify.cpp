#include "app/notify.h"

#include <cstdlib>

#if SY_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace sy::app {
namespace {

void notify([[maybe_unused]] const std::string& state) {
#if SY_HAVE_SYSTEMD
  // 0: keep NOTIFY_SOCKET, so that a reload and the stop can report too. A failure to
  // report is not an error of the proxy: systemd then times the unit out on its own.
  sd_notify(0, state.c_str());
#endif
}

}  // namespace

void notifyReady() { notify("READY=1\nSTATUS=serving"); }
void notifyReloading() { notify("RELOADING=1\nSTATUS=reloading the configuration"); }
void notifyStopping() { notify("STOPPING=1\nSTATUS=stopping"); }
void notifyStatus(const std::string& status) { notify("STATUS=" + status); }

server::ListenSockets::Store systemdSocketStore() {
  server::ListenSockets::Store store;
#if SY_HAVE_SYSTEMD
  store.active = std::getenv("NOTIFY_SOCKET") != nullptr;
  store.keep = [](int fd, const std::string& name) {
    std::string state = "FDSTORE=1\nFDNAME=" + name;
    sd_pid_notify_with_fds(0, 0, state.c_str(), &fd, 1);
  };
  store.forget = [](const std::string& name) { notify("FDSTOREREMOVE=1\nFDNAME=" + name); };
#endif
  return store;
}

}  // namespace sy::app
