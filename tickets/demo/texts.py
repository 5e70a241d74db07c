"""The demo tickets' texts, in Russian and English: the scenarios, products, and the phrases of the conversations."""

from __future__ import annotations

from dataclasses import dataclass

RU, EN = 0, 1


PRODUCTS = [
    ("ноутбук Lenovo ThinkPad E14", "Lenovo ThinkPad E14 laptop"),
    ("кондиционер Midea 12000 BTU", "Midea 12000 BTU air conditioner"),
    ("холодильник Samsung RB34", "Samsung RB34 fridge"),
    ("принтер HP LaserJet M428", "HP LaserJet M428 printer"),
    ("смартфон Samsung Galaxy A55", "Samsung Galaxy A55 phone"),
    ("кофемашина DeLonghi Magnifica", "DeLonghi Magnifica coffee machine"),
    ("монитор Dell P2423", "Dell P2423 monitor"),
    ("ИБП APC Back-UPS 1500", "APC Back-UPS 1500 UPS"),
]


@dataclass(frozen=True)
class Scenario:
    queue: str
    ticket_type: str
    title: tuple[str, str]
    body: tuple[str, str]
    resolution: tuple[str, str]
    reasons: tuple[str, ...]
    object_kind: str | None = None


SCENARIOS: list[Scenario] = [
    Scenario(
        "sales", "simple-question",
        ("Счёт на оплату по заказу {order}", "Invoice for order {order}"),
        ("Добрый день! Выставьте, пожалуйста, счёт на нашу организацию по заказу {order}. Реквизиты прежние.",
         "Hello! Could you please issue an invoice for order {order}? Our company details are the same as before."),
        ("Счёт по заказу {order} отправлен вам на почту, срок оплаты 5 банковских дней.",
         "The invoice for order {order} has been emailed to you; payment is due within 5 business days."),
        ("customer", "payment"), "order",
    ),
    Scenario(
        "sales", "simple-question",
        ("Есть ли в наличии {product}?", "Is the {product} in stock?"),
        ("Здравствуйте. Подскажите, есть ли {product} на складе в Алматы и сколько ждать доставку?",
         "Hi, is the {product} in stock in Almaty, and how long does delivery take?"),
        ("{product_cap} есть на складе, доставка по Алматы на следующий рабочий день.",
         "The {product} is in stock; delivery within Almaty takes one business day."),
        ("no-stock", "customer"),
    ),
    Scenario(
        "sales", "standard-request",
        ("Скидка при заказе от {qty} штук", "Volume discount for {qty}+ units"),
        ("Планируем закупить {qty} шт. ({product}). Какую скидку можете предложить? Нужен ответ до пятницы.",
         "We plan to buy {qty} units of the {product}. What discount can you offer? We need an answer by Friday."),
        ("Согласовали скидку 7 % на партию от {qty} штук, коммерческое предложение во вложении.",
         "We can offer a 7% discount for {qty}+ units; the quote is attached."),
        ("manager-decision", "customer"), "deal",
    ),
    Scenario(
        "sales", "standard-request",
        ("Изменить адрес доставки заказа {order}", "Change the delivery address of order {order}"),
        ("Добрый день, по заказу {order} нужно изменить адрес доставки: пр. Абая 150, офис 12.",
         "Hello, please change the delivery address of order {order} to 150 Abai Avenue, office 12."),
        ("Адрес доставки по заказу {order} изменён, курьер предупреждён.",
         "The delivery address of order {order} is updated and the courier is informed."),
        ("customer",), "order",
    ),
    Scenario(
        "sales", "simple-question",
        ("Коммерческое предложение на {product}", "Quote for the {product}"),
        ("Просим направить КП на {product}, {qty} шт., с доставкой в Астану.",
         "Please send us a quote for {qty} units of the {product}, delivered to Astana."),
        ("Коммерческое предложение отправлено на почту, цены действительны 10 дней.",
         "The quote has been emailed to you; prices are valid for 10 days."),
        ("customer", "no-stock"), "deal",
    ),
    Scenario(
        "service", "complex-case",
        ("Возврат: {product}, заказ {order}", "Return: {product}, order {order}"),
        ("Хотим вернуть {product} по заказу {order}: не подошёл по характеристикам, упаковка целая.",
         "We would like to return the {product} from order {order}: it does not fit our needs, the box is unopened."),
        ("Возврат оформлен, деньги в размере {amount} ₸ вернутся на счёт в течение 3 рабочих дней.",
         "The return is processed; {amount} KZT will be refunded within 3 business days."),
        ("documents", "manager-decision", "customer"), "order",
    ),
    Scenario(
        "service", "complex-case",
        ("Претензия: товар пришёл повреждённым", "Claim: the item arrived damaged"),
        ("Получили {product} по заказу {order}, корпус треснул. Фото прилагаем. Требуем замену.",
         "We received the {product} from order {order} with a cracked case. Photos attached. We want a replacement."),
        ("Претензию признали обоснованной, замена отправлена, трек-номер в письме.",
         "We accepted the claim; a replacement is on its way, the tracking number is in the email."),
        ("documents", "no-stock", "manager-decision"), "order",
    ),
    Scenario(
        "service", "standard-request",
        ("Гарантийный ремонт: {product}", "Warranty repair: {product}"),
        ("{product_cap} перестал включаться через два месяца после покупки. Как сдать в гарантийный ремонт?",
         "The {product} stopped turning on two months after purchase. How do we send it for warranty repair?"),
        ("Ремонт выполнен по гарантии, устройство можно забрать в сервисном центре на Сатпаева, 30.",
         "The repair was done under warranty; you can collect the device at the service centre, 30 Satpayev St."),
        ("documents", "no-stock", "customer"), "order",
    ),
    Scenario(
        "service", "standard-request",
        ("Нет закрывающих документов за {month}", "Missing closing documents for {month}"),
        ("Не получили акт и счёт-фактуру за {month} по договору {contract}. Бухгалтерия ждёт.",
         "We have not received the certificate of completion and the invoice for {month} under contract {contract}."),
        ("Документы за {month} подписаны ЭЦП и отправлены через ЭСФ.",
         "The documents for {month} are signed and sent through the e-invoicing system."),
        ("documents", "customer"), "contract",
    ),
    Scenario(
        "service", "standard-request",
        ("Задерживается доставка заказа {order}", "Delivery of order {order} is late"),
        ("Заказ {order} должны были привезти вчера, но никто не приехал и не позвонил.",
         "Order {order} was due yesterday, but nobody came or called."),
        ("Заказ {order} доставлен сегодня, приносим извинения за задержку.",
         "Order {order} was delivered today; we apologise for the delay."),
        ("no-stock", "customer"), "order",
    ),
    Scenario(
        "service", "complex-case",
        ("Замена по гарантии: {product}", "Warranty replacement: {product}"),
        ("Третий раз ломается {product}. Просим заменить на новый или вернуть деньги.",
         "The {product} has broken for the third time. Please replace it or refund us."),
        ("Согласована замена на новое устройство, его привезут в четверг.",
         "A replacement with a new unit is approved; it will be delivered on Thursday."),
        ("manager-decision", "no-stock", "documents"), "order",
    ),
    Scenario(
        "support", "critical-incident",
        ("Не работает личный кабинет", "The customer portal is down"),
        ("Личный кабинет не открывается с утра, у всех сотрудников ошибка 502. Стоит работа!",
         "The customer portal has been down since this morning; everyone gets error 502. Work has stopped!"),
        ("Сбой устранён: перезапустили балансировщик, кабинет работает. Разбор причин пришлём отдельно.",
         "Fixed: the load balancer was restarted and the portal works. A root-cause review will follow."),
        ("customer",),
    ),
    Scenario(
        "support", "critical-incident",
        ("Ошибка оплаты картой на сайте", "Card payments fail on the website"),
        ("Клиенты не могут оплатить картой: после ввода кода 3-D Secure страница зависает.",
         "Customers cannot pay by card: the page hangs after the 3-D Secure code."),
        ("Платёжный шлюз восстановлен, оплаты проходят. Проверили на тестовой карте.",
         "The payment gateway is back; payments go through, checked with a test card."),
        ("customer",),
    ),
    Scenario(
        "support", "standard-request",
        ("Не приходят SMS с кодом", "Verification SMS do not arrive"),
        ("Не приходит SMS с кодом подтверждения на номер {phone}.",
         "The verification SMS does not arrive at {phone}."),
        ("Номер был в стоп-листе оператора, убрали, SMS приходят.",
         "The number was on the carrier's block list; it is removed and messages arrive now."),
        ("customer",),
    ),
    Scenario(
        "support", "simple-question",
        ("Как выгрузить отчёт в Excel", "How to export a report to Excel"),
        ("Подскажите, как выгрузить отчёт по заказам за {month} в Excel?",
         "How can I export the orders report for {month} to Excel?"),
        ("Отчёты → Заказы → выбрать период → кнопка «Экспорт в Excel». Инструкцию со скриншотами отправили.",
         "Reports → Orders → pick the period → “Export to Excel”. We sent you a guide with screenshots."),
        ("customer",),
    ),
    Scenario(
        "support", "critical-incident",
        ("Сбой интеграции с 1С", "1C integration failure"),
        ("С ночи не выгружаются заказы в 1С, на складе не видят новые заявки.",
         "Since last night orders are not exported to 1C; the warehouse does not see new orders."),
        ("Обновили сертификат обмена, очередь выгрузки обработана, заказы в 1С.",
         "The exchange certificate was renewed, the export queue is processed and orders are in 1C."),
        ("customer", "manager-decision"),
    ),
    Scenario(
        "support", "simple-question",
        ("Сброс пароля для сотрудника", "Password reset for an employee"),
        ("Сотрудник забыл пароль от личного кабинета, сбросьте, пожалуйста.",
         "One of our employees forgot the portal password, please reset it."),
        ("Пароль сброшен, ссылка для входа отправлена сотруднику на почту.",
         "The password is reset and a sign-in link was emailed to the employee."),
        ("customer",),
    ),
]


ACKS = [
    ("Здравствуйте! Спасибо за обращение, взяли в работу. Вернёмся с ответом сегодня.",
     "Hello! Thank you for reaching out, we are on it and will get back to you today."),
    ("Добрый день! Заявка принята, разбираемся.", "Good afternoon! Your request is received, we are looking into it."),
    ("Здравствуйте, {customer}! Уже проверяем, скоро напишу.",
     "Hello {customer}, we are checking it now; I will write soon."),
]
DISPATCH_ACKS = [
    ("Здравствуйте! Обращение зарегистрировано, передаём специалисту.",
     "Hello! Your request is registered and passed to a specialist."),
]
ASKS = {
    "customer": [
        ("Уточните, пожалуйста, номер заказа и удобное время для звонка.",
         "Could you confirm the order number and a convenient time for a call?"),
        ("Пришлите, пожалуйста, скриншот ошибки и точное время, когда она появилась.",
         "Please send a screenshot of the error and the exact time it appeared."),
    ],
    "documents": [
        ("Для оформления пришлите, пожалуйста, скан накладной и фото упаковки.",
         "To proceed, please send a scan of the waybill and a photo of the packaging."),
        ("Нужно заявление на бланке организации с подписью и печатью.",
         "We need a signed request on your company letterhead."),
    ],
    "payment": [
        ("Счёт выставлен, после поступления оплаты сразу отгрузим.",
         "The invoice is issued; we ship as soon as the payment arrives."),
    ],
}
REASON_NOTES = {
    "no-stock": [
        ("Товара нет на складе, поставка ожидается в четверг.", "Out of stock, delivery expected on Thursday."),
    ],
    "manager-decision": [
        ("Клиент просит нестандартные условия, нужно решение руководителя.",
         "The customer asks for non-standard terms; a manager's decision is needed."),
    ],
    "customer": [("Ждём ответа клиента.", "Waiting for the customer's answer.")],
    "documents": [("Ждём документы от клиента.", "Waiting for the customer's documents.")],
    "payment": [("Ждём оплату по счёту.", "Waiting for the invoice to be paid.")],
}
RESUMES = {
    "no-stock": ("Товар поступил на склад, продолжаю.", "Stock arrived, continuing."),
    "manager-decision": ("Руководитель дал добро, продолжаю.", "The manager agreed, continuing."),
}
WORK_NOTES = [
    ("Позвонил клиенту, не дозвонился, попробую после обеда.", "Called the customer, no answer; will try after lunch."),
    ("Проверил в 1С: оплата поступила.", "Checked 1C: the payment has arrived."),
    ("Созвонился с клиентом, договорились о следующем шаге.", "Talked to the customer, agreed on the next step."),
    ("Похоже на повторяющуюся проблему, стоит завести задачу на разбор причин.",
     "Looks like a recurring problem; worth a root-cause task."),
    ("Уточнил у склада сроки, ответ до конца дня.", "Asked the warehouse for dates; answer by end of day."),
]
CUSTOMER_FOLLOWUPS = [
    ("Когда будет ответ? Жду уже второй день.", "When can I expect an answer? I have been waiting for two days."),
    ("Добавлю: проблема повторилась сегодня утром.", "One more thing: it happened again this morning."),
    ("Спасибо, жду.", "Thanks, waiting."),
]
CUSTOMER_ANSWERS = [
    ("Отправил документы, посмотрите, пожалуйста.", "I have sent the documents, please take a look."),
    ("Номер заказа {order}, звонить можно после 14:00.", "The order number is {order}; call after 2 pm."),
    ("Оплатили, платёжка во вложении.", "Paid, the payment slip is attached."),
]
FOLLOWUP_REPLIES = [
    ("Спасибо, получили. Работаем, сообщим о результате.", "Thank you, received. We are on it and will report back."),
    ("Извините за ожидание, вопрос на контроле у руководителя.",
     "Sorry for the wait; your request is under a manager's control."),
]
APPROVAL_NOTES = [
    ("Прошу согласовать: клиент просит компенсацию {amount} ₸.", "Please approve: the customer asks for {amount} KZT."),
    ("Нестандартный случай, нужно решение руководителя по условиям.",
     "Non-standard case; needs a manager's decision on the terms."),
]
APPROVED = [("Согласовано.", "Approved."), ("Согласовано, но в последний раз.", "Approved, as an exception.")]
CUSTOMER_CANCELS = [
    ("Вопрос больше не актуален, спасибо.", "This is no longer needed, thank you."),
    ("Решили сами, заявку можно закрыть.", "We sorted it out ourselves; you can close the request."),
]
CANCEL_COMMENTS = [
    ("Дубль обращения.", "Duplicate request."),
    ("Клиент отказался.", "The customer withdrew the request."),
    ("Ошибочное обращение.", "Opened by mistake."),
]
CANCEL_REPLIES = [
    ("Хорошо, закрываем заявку. Обращайтесь!", "All right, we are closing the request. Get in touch any time!"),
]
NEXT_STEPS = [
    ("Позвонить клиенту и подтвердить сроки", "Call the customer to confirm the dates"),
    ("Получить ответ склада", "Get the warehouse's answer"),
    ("Отправить клиенту итоговое решение", "Send the customer the final decision"),
    ("Напомнить клиенту о документах", "Remind the customer about the documents"),
    ("Проверить, прошла ли оплата", "Check whether the payment has arrived"),
]
MONTHS = [
    ("январь", "January"), ("февраль", "February"), ("март", "March"), ("апрель", "April"), ("май", "May"),
    ("июнь", "June"), ("июль", "July"), ("август", "August"), ("сентябрь", "September"), ("октябрь", "October"),
    ("ноябрь", "November"), ("декабрь", "December"),
]
