// A Compose screen that runs a challenge from the camera: the prompt of each
// state, the per-frame guidance, and the verdict at the end. NOT COMPILED on
// the development machine (no Android SDK there); what it calls is tested on
// the JVM (pushFrame from coroutines, yuv420Image behind toTrustshotImage,
// challengePrompt, challengeHoldPrompt, guidance). Needs CameraX (camera-core,
// camera-lifecycle, camera-view) and Compose in the app.
package dev.trustshot.examples

import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.compose.foundation.layout.Column
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.platform.LocalLifecycleOwner
import androidx.compose.ui.viewinterop.AndroidView
import androidx.core.content.ContextCompat
import dev.trustshot.ChallengeState
import dev.trustshot.FaceVerifier
import dev.trustshot.TimedFrame
import dev.trustshot.challengeHoldPrompt
import dev.trustshot.challengePrompt
import dev.trustshot.isFinal
import dev.trustshot.toTrustshotImage
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.receiveAsFlow
import kotlinx.coroutines.withContext

/** The text a state asks the person for. */
fun promptFor(state: ChallengeState): String = when (state) {
    is ChallengeState.InProgress -> challengePrompt(state.current).text
    is ChallengeState.Holding, ChallengeState.Starting -> challengeHoldPrompt().text
    else -> ""
}

@Composable
fun ChallengeScreen(verifier: FaceVerifier, onDone: (ChallengeState) -> Unit) {
    val owner = LocalLifecycleOwner.current
    var prompt by remember { mutableStateOf(challengeHoldPrompt().text) }
    var hint by remember { mutableStateOf("") }
    // Only the newest frame waits: frames that arrive while one is judged are dropped.
    val frames = remember { Channel<TimedFrame>(Channel.CONFLATED) }
    val session = remember { verifier.startChallenge(2u) }

    LaunchedEffect(session) {
        val end = frames.receiveAsFlow()
            .map { f -> withContext(Dispatchers.Default) { session.pushFrame(f.image, f.timestampMs) } }
            .onEach { state ->
                prompt = promptFor(state)
                hint = session.guidance().firstOrNull()?.text ?: ""
            }
            .first { it.isFinal }
        session.close()
        onDone(end)
    }
    Column {
        AndroidView(factory = { ctx ->
            PreviewView(ctx).also {
                val providerFuture = ProcessCameraProvider.getInstance(ctx)
                providerFuture.addListener({
                    val analysis = ImageAnalysis.Builder()
                        .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                        .build()
                    analysis.setAnalyzer(ContextCompat.getMainExecutor(ctx)) { proxy ->
                        proxy.use {
                            frames.trySend(TimedFrame(it.toTrustshotImage(), (it.imageInfo.timestamp / 1_000_000).toULong()))
                        }
                    }
                    providerFuture.get().bindToLifecycle(owner, CameraSelector.DEFAULT_FRONT_CAMERA, analysis)
                }, ContextCompat.getMainExecutor(ctx))
            }
        })
        Text(prompt)
        Text(hint)
    }
}
