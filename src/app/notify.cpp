#include "app/notify.h"

#if SY_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace sy::app {
namespace {

void notify([[maybe_unused]] const char* state) {
#if SY_HAVE_SYSTEMD
  // 0: keep NOTIFY_SOCKET, so that a reload and the stop can report too. A failure to
  // report is not an error of the proxy: systemd then times the unit out on its own.
  sd_notify(0, state);
#endif
}

}  // namespace

void notifyReady() { notify("READY=1\nSTATUS=serving"); }
void notifyReloading() { notify("RELOADING=1\nSTATUS=reloading the configuration"); }
void notifyStopping() { notify("STOPPING=1\nSTATUS=stopping"); }

}  // namespace sy::app
